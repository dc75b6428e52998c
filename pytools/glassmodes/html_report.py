"""A self-contained HTML report: stages with their times and reproducing commands, figures
(embedded as base64 PNG, so the file can be mailed or archived alone) and tables."""

from __future__ import annotations

import base64
import html
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from glassmodes.io.atomic import atomic_output


@dataclass
class Stage:
    """One step of a job: what it did, how long it took (s), the command that reproduces it."""

    name: str
    seconds: float
    command: str
    summary: str = ""


@dataclass
class Report:
    title: str
    intro: str = ""
    stages: list[Stage] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)    # HTML fragments, in order

    def add_figure(self, png: str | os.PathLike, caption: str) -> None:
        data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
        self.sections.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def add_table(self, title: str, header: list[str], rows: list[list], note: str = "") -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
                       for row in rows)
        note_html = f"<p class='note'>{html.escape(note)}</p>" if note else ""
        self.sections.append(f"<h2>{html.escape(title)}</h2>{note_html}"
                             f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def add_text(self, title: str, text: str) -> None:
        self.sections.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(text)}</p>")

    def write(self, path: str | os.PathLike) -> Path:
        stages = "".join(
            f"<tr><td>{html.escape(s.name)}</td><td>{s.seconds:.1f}</td><td>{html.escape(s.summary)}</td>"
            f"<td><code>{html.escape(s.command)}</code></td></tr>" for s in self.stages)
        total = sum(s.seconds for s in self.stages)
        doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
td, th {{ border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
th {{ background: #eee; }} code {{ font-size: 0.85em; }}
figure {{ display: inline-block; margin: 0.5em; }} img {{ max-width: 520px; }}
figcaption {{ font-size: 0.85em; color: #555; max-width: 520px; }} .note {{ color: #555; }}
</style></head><body>
<h1>{html.escape(self.title)}</h1>
<p>{html.escape(self.intro)}</p>
<p class="note">Written {time.strftime('%Y-%m-%d %H:%M:%S')}; total {total:.1f} s.</p>
<h2>Stages</h2>
<table><thead><tr><th>stage</th><th>seconds</th><th>result</th><th>command that reproduces it</th></tr></thead>
<tbody>{stages}</tbody></table>
{''.join(self.sections)}
</body></html>
"""
        with atomic_output(path) as tmp:
            Path(tmp).write_text(doc)
        return Path(path)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
