"""The report's "Ask the coach" panel and its per-repetition, per-side table: static HTML, no server.

The answers are computed when the report is written (by the coach's answerer, :mod:`musclepose.pipelines.ask`)
for a set of suggested questions and any the user asked with ``--ask``; the page carries them as
JSON, and a few lines of local JavaScript show the answer of a clicked question, or of a typed one
matched to a question kind by keywords (the same kinds the coach reads questions as). Nothing is
fetched: the report stays one self-contained file. All text is HTML-escaped, and the JSON is
embedded so that no sequence in it can close the script element.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["chat_section", "events_section"]

# Typed questions -> a kind, in the order the coach's parser tries them (musclepose.language.questions).
_KIND_WORDS = [
    ["decline", "heart ?rate|pulse|calorie|breath|blood pressure|1 ?rm|one[- ]rep max|how heavy|weight on the bar"],
    ["compare", "previous|last (time|file|session)|earlier|compare|than before|other set"],
    ["rep_moment", "moment|torque"],
    ["slowest", "slowest|longest|most time"],
    ["fatigue", "fatigu|tired|slow(ing|ed)? down|slower"],
    ["side", "left or|right or|which side|which knee|which elbow|one side"],
    ["fault_phase", "when|which phase|what phase|at what point|which part"],
    ["deepest", "deepest|lowest|most depth|furthest down"],
    ["worst", "worst|poorest|sloppiest|weakest|most work"],
]

_JS = """
(function () {
  var data = JSON.parse(document.getElementById('mp-chat-data').textContent);
  var out = document.getElementById('mp-chat-answer');
  function show(item) {
    out.textContent = '';
    var q = document.createElement('p'); q.className = 'q'; q.textContent = item.question;
    var a = document.createElement('p'); a.className = 'a'; a.textContent = item.answer;
    out.appendChild(q); out.appendChild(a);
  }
  document.querySelectorAll('#mp-chat button[data-i]').forEach(function (b) {
    b.addEventListener('click', function () { show(data.items[+b.dataset.i]); });
  });
  document.getElementById('mp-chat-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = document.getElementById('mp-chat-q').value.toLowerCase();
    for (var k = 0; k < data.kinds.length; k++) {
      if (new RegExp(data.kinds[k][1]).test(text)) {
        for (var i = 0; i < data.items.length; i++) {
          if (data.items[i].kind === data.kinds[k][0]) {
            show({question: document.getElementById('mp-chat-q').value +
                  '  (answered as: ' + data.items[i].question + ')',
                  answer: data.items[i].answer});
            return;
          }
        }
      }
    }
    show({question: document.getElementById('mp-chat-q').value,
          answer: 'This report holds answers to the questions listed above only; ' +
                  'ask others with musclepose coach FILE --ask "...".'});
  });
})();
"""


def _json_for_script(doc: Any) -> str:
    # "</" would end the script element early; "<!--" and "]]>" are escaped alike.
    return json.dumps(doc, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chat_section(items: Sequence[Mapping[str, Any]], answerer: str = "") -> str:
    """The "Ask the coach" panel: ``items`` each ``{"question", "answer", "kind"}``."""
    if not items:
        return ""
    buttons = "".join(
        f'<li><button type="button" data-i="{i}">{escape(str(it["question"]))}</button></li>'
        for i, it in enumerate(items)
    )
    doc = {"items": [{"question": str(it["question"]), "answer": str(it["answer"]), "kind": str(it.get("kind", ""))}
                     for it in items], "kinds": _KIND_WORDS}  # fmt: skip
    who = f" Answered by the {escape(answerer)} answerer when this report was written." if answerer else ""
    return (
        '<h2>Ask the coach</h2><div class="card" id="mp-chat">'
        f"<p>Click a question, or type one (it is matched to the closest question below).{who}</p>"
        f'<ul class="chat-questions">{buttons}</ul>'
        '<form id="mp-chat-form"><input id="mp-chat-q" type="text" size="60" '
        'placeholder="e.g. which rep was deepest?" aria-label="your question"> '
        '<button type="submit">Ask</button></form>'
        '<div id="mp-chat-answer" aria-live="polite"></div>'
        f'<script type="application/json" id="mp-chat-data">{_json_for_script(doc)}</script>'
        f"<script>{_JS}</script></div>"
    )


def _f(v: Any, fmt: str) -> str:
    return "-" if v is None else format(float(v), fmt)


def events_section(events: Mapping[str, Any] | None) -> str:
    """The per-repetition, per-side table of an event table (``MotionEvents.to_dict()``)."""
    if not events or not events.get("reps"):
        return ""
    joint = "elbow" if events.get("limb") == "arm" else "knee"
    no_sides = "sides" in (events.get("missing") or {})
    words = {"r": "right", "l": "left", "both": "both sides"}
    rows = []
    for r in events["reps"]:
        d = r.get("depth_deg") or {}
        m = (r.get("peak_extensor_moment_nm_per_kg") or {}).get(joint) or {}
        ph = r.get("phases_s") or {}
        faults = []
        for f in r.get("flagged_faults") or []:
            by = ((r.get("faults") or {}).get(f) or {}).get("by_side") or {}
            side = None
            if by and not no_sides:
                a, b = by.get("r") or 0.0, by.get("l") or 0.0
                side = "r" if a > 1.25 * b and a > 0 else "l" if b > 1.25 * a and b > 0 else "both" if a or b else None
            phase = ((r.get("faults") or {}).get(f) or {}).get("phase")
            faults.append(f.replace("_", " ") + (f", {words[side]}" if side else "") + (f", {phase}" if phase else ""))
        rows.append(
            f"<tr><td>{r['repetition']}</td><td>{_f(d.get('r'), '.0f')} / {_f(d.get('l'), '.0f')}</td>"
            f"<td>{_f(ph.get('lowering'), '.1f')} / {_f(ph.get('bottom'), '.1f')} / {_f(ph.get('rising'), '.1f')}</td>"
            f"<td>{_f(m.get('r'), '.2f')} / {_f(m.get('l'), '.2f')}</td>"
            f"<td>{escape('; '.join(faults) or '-')}</td></tr>"
        )
    note = "".join(
        f"<p>Not measured: {escape(k)} ({escape(str(v))}).</p>" for k, v in (events.get("missing") or {}).items()
    )
    return (
        "<h2>Per repetition and side</h2>"
        "<table><thead><tr><th>#</th><th>depth R / L, deg</th><th>lowering / bottom / rising, s</th>"
        f"<th>{joint} moment R / L, N·m/kg</th><th>faults on this repetition (side, phase)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )
