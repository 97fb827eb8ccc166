"""How answers, sources and conflicts look in the web app. Text from documents and people is
always escaped: it is shown, never interpreted as markup — `escape` inside HTML, `shown`
inside Markdown (no HTML, links, emphasis or block markup either)."""

from __future__ import annotations

import html

from bot.answering.answers import Answer, Citation
from bot.answering.layout import as_markdown
from bot.transcripts.exports import escape as shown
from bot.workspace.sources import SourceView


def escape(text: str) -> str:
    """Text inside HTML, shown as itself."""
    return html.escape(text, quote=True)


def answer_markdown(answer: Answer) -> str:
    """An answer as shown in the chat: notices, the answer, then its numbered sources."""
    parts = [f"_Note: {shown(notice)}_" for notice in answer.notices]
    if answer.rewritten_query and answer.rewritten_query != answer.question:
        parts.append(f"_Read as: {shown(answer.rewritten_query)}_")
    if answer.grounded:
        parts.append(as_markdown(answer))
    else:  # the answer says so itself, in the question's language
        parts.append(f'<div class="pb-not-answered">\n\n{as_markdown(answer)}\n\n</div>')
    if answer.citations:  # folded: a long answer's end is its answer, not its last source
        sources = [f"<details><summary>Sources ({len(answer.citations)})</summary>"]
        for c in answer.citations:
            sources.append(f"**[{c.n}]** {shown(_label(c))}\n> {shown(c.quote)}")
        parts.append("\n\n".join([*sources, "</details>"]))
    parts.append(f"<sub>{shown(model_line(answer))}</sub>")
    return "\n\n".join(parts)


def model_line(answer: Answer) -> str:
    """What answered: the model, with its backend when the model's name does not say it."""
    if answer.backend.lower() in answer.model.lower():
        return answer.model
    return f"{answer.backend} · {answer.model}"


def _label(c: Citation) -> str:
    kind = f"{c.kind}, opinion" if c.opinion else c.kind
    return f"{c.title} · {kind} · {c.date or 'undated'} · {c.source} {c.where}"


def chip_label(c: Citation) -> str:
    return f"[{c.n}] {c.title}"


def source_panel(view: SourceView) -> str:
    """The sources panel: the document's title, kind and date, the passage, the quote marked."""
    c = view.citation
    kind = f"{c.kind} · opinion, not a statement of fact" if c.opinion else c.kind
    warning = f'<p class="pb-warning">{escape(view.warning)}</p>' if view.warning else ""
    return (
        f'<div class="pb-source" data-citation="{c.n}">'
        f"<h3>[{c.n}] {escape(c.title)}</h3>"
        f'<p class="pb-meta"><span class="pb-kind">{escape(kind)}</span> · '
        f"{escape(c.date or 'undated')} · <code>{escape(c.source)}</code> · {c.where} · "
        f'SHA-256 <code title="{escape(c.sha256)}">'
        f"{escape(c.sha256[:12])}…</code></p>{warning}"
        f'<div class="pb-passage">{_paragraphs(view.before)}<mark>{escape(view.quote)}</mark>'
        f"{_paragraphs(view.after)}</div></div>"
    )


def _paragraphs(text: str) -> str:
    return escape(text).replace("\n", "<br>")


EMPTY_PANEL = (
    '<div class="pb-source pb-empty">Choose a citation to see its passage, with the quoted '
    "words highlighted.</div>"
)


def conflict_banner(answer: Answer | None) -> str:
    if answer is None or not answer.conflicts:
        return ""
    rows = []
    for conflict in answer.conflicts:
        sides = "; ".join(f"[{claim.n}] {escape(claim.claim)}" for claim in conflict.claims)
        rows.append(f"<li><strong>{escape(conflict.topic)}</strong>: {sides}</li>")
    return (
        '<div class="pb-conflict" role="alert"><strong>The sources disagree.</strong> '
        f"Most reliable source first:<ul>{''.join(rows)}</ul></div>"
    )


# Runs once in the page: every AWAY_CHECK_MS it asks the server for its start page; while no
# answer comes, a banner says the server is away (Gradio itself shows nothing until an event
# fails). Any response, even an error status, means the server is back.
AWAY_CHECK_MS = 5000
AWAY_JS = """
() => {
  const note = document.createElement("div");
  note.id = "pb-away";
  note.setAttribute("role", "alert");
  note.hidden = true;
  note.textContent = "The server cannot be reached. Your conversation is saved: ask again "
    + "once it is back (this note goes by itself).";
  document.body.appendChild(note);
  const start = window.location.pathname;
  let checking = false;
  setInterval(async () => {
    if (checking) return;  // one check at a time; a check that hangs is cut short
    checking = true;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), AWAY_CHECK_MS - 1000);
    try {
      await fetch(start, { method: "HEAD", cache: "no-store", signal: stop.signal });
      note.hidden = true;
    } catch (error) {
      note.hidden = false;
    } finally {
      clearTimeout(timer);
      checking = false;
    }
  }, AWAY_CHECK_MS);
}
""".replace("AWAY_CHECK_MS", str(AWAY_CHECK_MS))

CSS = """
.pb-not-answered { border-left: 4px solid #b45309; background: #fef3c7; color: #451a03;
  padding: 0.5em 0.75em; border-radius: 4px; }
.pb-conflict { border-left: 4px solid #b91c1c; background: #fee2e2; color: #450a0a;
  padding: 0.5em 0.75em; border-radius: 4px; }
.pb-conflict ul { margin: 0.25em 0 0 1.25em; }
.pb-source { padding: 0.5em 0.75em; }
.pb-source h3 { margin: 0 0 0.25em 0; font-size: 1.05em; }
.pb-meta { color: #4b5563; font-size: 0.9em; margin: 0 0 0.5em 0; }
.pb-kind { font-weight: 600; }
.pb-warning { color: #92400e; }
.pb-passage { white-space: normal; line-height: 1.5; max-height: 420px; overflow-y: auto;
  border: 1px solid #e5e7eb; border-radius: 4px; padding: 0.5em 0.75em; }
.pb-passage mark { background: #fde047; color: #111827; padding: 0 2px; }
.pb-badge { display: inline-block; border-radius: 999px; padding: 0.1em 0.7em;
  background: #e0e7ff; color: #1e1b4b; font-size: 0.85em; margin-right: 0.5em; }
.pb-badge.pb-stale { background: #fef3c7; color: #451a03; }
#pb-away { position: fixed; top: 0; left: 0; right: 0; z-index: 1000; padding: 0.6em 1em;
  background: #b91c1c; color: #ffffff; font-weight: 600; text-align: center; }
#pb-away[hidden] { display: none; }
"""
