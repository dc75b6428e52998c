/* The radial kernel shared by glassmodes' smoothed pair styles (ipl/smooth, ipl/smooth/poly,
   lj/smooth/glass): in reduced distance x = r / s,

     f(x) = sum_t a_t x^(-n_t) + sum_{k=0..q} c_k x^(k*step)     for x < x_c,   0 otherwise,

   and the pair energy is phi(r) = eps f(r / s). step = 2 gives the even polynomial
   c_0 + c_2 x^2 + ... + c_2q x^2q of the Lerner-group glass models (Kapteijns thesis, seeds 002 and
   003); step = 1 gives c_0 + c_1 x + ... + c_q x^q (with q = 1 the shifted-force form of seed 004).
   solve() chooses c_k so that f and its first q derivatives vanish at x_c; check_cutoff()
   measures how well a coefficient set (solved or given by the user) does that.

   Plain data (no constructor, no pointers): a pair style keeps one per type pair in an array made
   by memory->create. No LAMMPS dependencies. */
#ifndef GLASSMODES_SMOOTHED_POWER_LAW_H
#define GLASSMODES_SMOOTHED_POWER_LAW_H

#include <cmath>

namespace LAMMPS_NS {
namespace glassmodes {

struct SmoothedPowerLaw {
  static constexpr int MAX_TERMS = 2;    // inverse-power terms: 1 (IPL) or 2 (LJ 12-6)
  static constexpr int MAX_Q = 6;        // highest smoothing order (matrix conditioning)
  static constexpr int MAX_INT_EXPONENT = 64;

  int nterm;                // number of inverse-power terms
  double amp[MAX_TERMS];    // a_t, dimensionless (units of eps)
  double expo[MAX_TERMS];   // n_t > 0
  int iexpo[MAX_TERMS];     // n_t when it is an integer <= MAX_INT_EXPONENT, else -1 (use pow)
  int q;                    // polynomial degree index: k = 0..q
  int step;                 // polynomial power of term k is k*step (1 or 2)
  bool needs_root;          // some power is odd or non-integer: evaluation needs x, not just x^2
  double c[MAX_Q + 1];      // c_k, dimensionless (units of eps)
  double xc;                // cutoff in units of s
  double xcsq;              // xc^2

  // ---- set-up ------------------------------------------------------------------------------

  // inverse-power part; polynomial coefficients zeroed. Returns false on a bad argument.
  bool setup(int nterm_, const double *amp_, const double *expo_, int q_, int step_, double xc_)
  {
    if (nterm_ < 1 || nterm_ > MAX_TERMS || q_ < 0 || q_ > MAX_Q || (step_ != 1 && step_ != 2) ||
        !(xc_ > 0.0))
      return false;
    nterm = nterm_;
    q = q_;
    step = step_;
    xc = xc_;
    xcsq = xc * xc;
    needs_root = (step == 1);
    for (int t = 0; t < nterm; t++) {
      if (!(expo_[t] > 0.0)) return false;
      amp[t] = amp_[t];
      expo[t] = expo_[t];
      const double nr = std::round(expo[t]);
      iexpo[t] = (nr == expo[t] && nr <= MAX_INT_EXPONENT) ? static_cast<int>(nr) : -1;
      if (iexpo[t] < 0 || (iexpo[t] & 1)) needs_root = true;
    }
    for (int k = 0; k <= MAX_Q; k++) c[k] = 0.0;
    return true;
  }

  // c_k such that f^(m)(x_c) = 0 for m = 0..q. Unknowns d_k = c_k x_c^(k step) turn the
  // conditions into sum_k ff(k step, m) d_k = -sum_t a_t ff(-n_t, m) x_c^(-n_t), a matrix of
  // small integers; Gaussian elimination with partial pivoting and one refinement step.
  bool solve()
  {
    constexpr int N = MAX_Q + 1;
    const int n = q + 1;
    double A[N][N], rhs[N], d[N];
    for (int m = 0; m < n; m++) {
      for (int k = 0; k < n; k++) A[m][k] = falling(k * step, m);
      double b = 0.0;
      for (int t = 0; t < nterm; t++) b -= amp[t] * falling(-expo[t], m) * std::pow(xc, -expo[t]);
      rhs[m] = b;
    }
    if (!gauss(A, rhs, d, n)) return false;
    for (int k = 0; k < n; k++) c[k] = d[k] / ipow(xc, k * step);
    // refinement: residuals of f^(m)(xc) x_c^m are the residuals of the scaled system
    double res[N + 4], corr[N];
    derivatives(xc, q, res);
    double xm = 1.0;
    for (int m = 0; m < n; m++) {
      rhs[m] = -res[m] * xm;
      xm *= xc;
    }
    for (int m = 0; m < n; m++)
      for (int k = 0; k < n; k++) A[m][k] = falling(k * step, m);
    if (!gauss(A, rhs, corr, n)) return false;
    for (int k = 0; k < n; k++) c[k] += corr[k] / ipow(xc, k * step);
    return true;
  }

  // user-given c_0..c_q
  void set_coefficients(const double *coef)
  {
    for (int k = 0; k <= q; k++) c[k] = coef[k];
  }

  // rel[m] = |f^(m)(x_c)| / sum of |each term's m-th derivative| at x_c, m = 0..order: the
  // discontinuity of f^(m) at the cutoff relative to the size of what cancels there.
  void check_cutoff(int order, double *rel) const
  {
    double total[MAX_Q + 5], scale[MAX_Q + 5];
    for (int m = 0; m <= order; m++) total[m] = scale[m] = 0.0;
    for (int t = 0; t < nterm; t++) {
      double v = amp[t] * std::pow(xc, -expo[t]);
      for (int m = 0; m <= order; m++) {
        total[m] += v;
        scale[m] += std::fabs(v);
        v *= (-expo[t] - m) / xc;
      }
    }
    for (int k = 0; k <= q; k++) {
      const int p = k * step;
      double v = c[k] * ipow(xc, p);
      for (int m = 0; m <= order && m <= p; m++) {
        total[m] += v;
        scale[m] += std::fabs(v);
        v *= (p - m) / xc;
      }
    }
    for (int m = 0; m <= order; m++)
      rel[m] = scale[m] > 0.0 ? std::fabs(total[m]) / scale[m] : std::fabs(total[m]);
  }

  // ---- evaluation (inside the cutoff; callers test x < x_c) ---------------------------------

  // f(x) for x^2 = xsq; g = f'(x) / x, so that the pair force is -eps g / s^2 times the
  // separation vector. Integer powers by multiplication; sqrt only when needs_root. The common
  // case (even integer exponents, even polynomial) runs a version unrolled for its q.
  double eval(double xsq, double &g) const
  {
    if (!needs_root && step == 2) {
      switch (q) {
        case 0: return eval_even<0>(xsq, g);
        case 1: return eval_even<1>(xsq, g);
        case 2: return eval_even<2>(xsq, g);
        case 3: return eval_even<3>(xsq, g);
        case 4: return eval_even<4>(xsq, g);
        case 5: return eval_even<5>(xsq, g);
        case 6: return eval_even<6>(xsq, g);
        default: break;
      }
    }
    return eval_general(xsq, g);
  }

  // even exponents n_t, polynomial in y = x^2: f = sum a_t y^(-n_t/2) + sum c_k y^k,
  // g = f'(x)/x = sum -n_t a_t y^(-n_t/2 - 1) + sum 2k c_k y^(k-1)
  template <int Q> double eval_even(double xsq, double &g) const
  {
    const double xinv2 = 1.0 / xsq;
    double f = c[Q], dp = 2.0 * Q * c[Q];
    for (int k = Q - 1; k >= 0; k--) f = f * xsq + c[k];
    for (int k = Q - 1; k >= 1; k--) dp = dp * xsq + 2.0 * k * c[k];
    g = Q >= 1 ? dp : 0.0;
    for (int t = 0; t < nterm; t++) {
      const double p = amp[t] * ipow_small(xinv2, iexpo[t] >> 1);
      f += p;
      g -= expo[t] * p * xinv2;
    }
    return f;
  }

  double eval_general(double xsq, double &g) const
  {
    const double xinv2 = 1.0 / xsq;
    double x = 0.0, xinv = 0.0;
    if (needs_root) {
      x = std::sqrt(xsq);
      xinv = 1.0 / x;
    }
    double f = 0.0;
    g = 0.0;
    for (int t = 0; t < nterm; t++) {
      const double p = inv_power(t, xinv, xinv2);
      f += amp[t] * p;
      g -= amp[t] * expo[t] * p * xinv2;
    }
    if (step == 2) {    // polynomial in y = x^2: f += sum c_k y^k, g += sum 2k c_k y^(k-1)
      double pf = c[q], pg = 2.0 * q * c[q];
      for (int k = q - 1; k >= 0; k--) pf = pf * xsq + c[k];
      for (int k = q - 1; k >= 1; k--) pg = pg * xsq + 2.0 * k * c[k];
      f += pf;
      if (q >= 1) g += pg;
    } else {    // polynomial in x: f += sum c_k x^k, g += (sum k c_k x^(k-1)) / x
      double pf = c[q], pg = q * c[q];
      for (int k = q - 1; k >= 0; k--) pf = pf * x + c[k];
      for (int k = q - 1; k >= 1; k--) pg = pg * x + k * c[k];
      f += pf;
      if (q >= 1) g += pg * xinv;
    }
    return f;
  }

  // d[m] = f^(m)(x), m = 0..order (any order; falling factorials make the polynomial vanish)
  void derivatives(double x, int order, double *d) const
  {
    for (int m = 0; m <= order; m++) d[m] = 0.0;
    const double xinv = 1.0 / x;
    for (int t = 0; t < nterm; t++) {
      double v = amp[t] * inv_power(t, xinv, xinv * xinv);
      for (int m = 0; m <= order; m++) {
        d[m] += v;
        v *= (-expo[t] - m) * xinv;
      }
    }
    for (int k = 0; k <= q; k++) {
      const int p = k * step;
      double v = c[k] * ipow(x, p);
      for (int m = 0; m <= order && m <= p; m++) {
        d[m] += v;
        v *= (p - m) * xinv;
      }
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  static double ipow(double b, int e)
  {
    double r = 1.0;
    while (e > 0) {
      if (e & 1) r *= b;
      b *= b;
      e >>= 1;
    }
    return r;
  }

  // b^e by straight-line multiplications for the exponents of the glass models (e = n/2)
  static double ipow_small(double b, int e)
  {
    const double b2 = b * b;
    switch (e) {
      case 1: return b;
      case 2: return b2;
      case 3: return b2 * b;
      case 4: return b2 * b2;
      case 5: return b2 * b2 * b;
      case 6: { const double b3 = b2 * b; return b3 * b3; }
      case 7: { const double b3 = b2 * b; return b3 * b3 * b; }
      case 8: { const double b4 = b2 * b2; return b4 * b4; }
      case 9: { const double b4 = b2 * b2; return b4 * b4 * b; }
      case 10: { const double b5 = b2 * b2 * b; return b5 * b5; }
      case 11: { const double b5 = b2 * b2 * b; return b5 * b5 * b; }
      case 12: { const double b3 = b2 * b; const double b6 = b3 * b3; return b6 * b6; }
      default: return ipow(b, e);
    }
  }

  // falling factorial p (p-1) ... (p-m+1) for real p
  static double falling(double p, int m)
  {
    double r = 1.0;
    for (int i = 0; i < m; i++) r *= (p - i);
    return r;
  }

  // x^(-n_t), given 1/x (valid when needs_root or n_t is an even integer) and 1/x^2
  double inv_power(int t, double xinv, double xinv2) const
  {
    const int n = iexpo[t];
    if (n < 0) return std::pow(xinv, expo[t]);
    double r = ipow(xinv2, n >> 1);
    if (n & 1) r *= xinv;
    return r;
  }

  template <int N> static bool gauss(double (&A)[N][N], double *b, double *x, int n)
  {
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int r = col + 1; r < n; r++)
        if (std::fabs(A[r][col]) > std::fabs(A[piv][col])) piv = r;
      if (A[piv][col] == 0.0) return false;
      if (piv != col) {
        for (int k = 0; k < n; k++) {
          const double tmp = A[col][k];
          A[col][k] = A[piv][k];
          A[piv][k] = tmp;
        }
        const double tmp = b[col];
        b[col] = b[piv];
        b[piv] = tmp;
      }
      for (int r = col + 1; r < n; r++) {
        const double fac = A[r][col] / A[col][col];
        for (int k = col; k < n; k++) A[r][k] -= fac * A[col][k];
        b[r] -= fac * b[col];
      }
    }
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int k = r + 1; k < n; k++) s -= A[r][k] * x[k];
      x[r] = s / A[r][r];
    }
    return true;
  }
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
