"""Questions about the motion: four answerers against the ground truth of synthetic clips, in one run (issue 16).

Simulates the question-answering data set unless ``--data`` names one
(:func:`musclepose.pipelines.qa_data.qa_dataset`: all exercises, faults and fatigue injected, seeded),
prepares each clip as the coach sees it (kinetics from estimated ground reactions, the analysis, the
shipped form screen, the event table; :func:`musclepose.pipelines.qa_data.qa_clips`, the same clips
``musclepose train coach-qa`` trains on), asks every question the clip's *generator truth* can decide,
phrased with the held-out templates (:func:`musclepose.evaluation.coach_qa.select_items`), and scores
the answers (:func:`musclepose.evaluation.coach_qa.evaluate_qa`). The truth is what the generator made
(its repetition windows, its inverse dynamics with the true contacts, the faults it injected and their
sides), not what the coach measured, so a wrong measurement is a wrong answer.

The answerers, on the test split (subjects no model was trained or tuned on), on the same questions:
(a) ``llm-tokens`` the LLM with the QA adapter and the EventBridge's soft tokens, (b) ``llm-zeroed``
the same with the soft tokens zeroed, (c) ``llm-table`` the LLM with the per-repetition table written
in its prompt, (d) ``rule`` the rule-based answerer. What the LLM wrote is scored as it is (no fallback
to the rule-based answer). Latency: per answer within batches of 8 (how the benchmark runs), and one
question alone, warm (how ``coach --ask`` runs). The rule-based answerer is also scored on all clips
(it fits nothing on them).

Writes ``docs/evaluation_coach_qa.md`` (+ ``.json``).
Usage: ``python benchmarks/eval_coach_qa.py [--n 120] [--seed 16] [--data clips.h5] [--qa CHECKPOINT]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.evaluation.coach_qa import evaluate_qa, select_items
from musclepose.io.atomic import atomic_write
from musclepose.language.backend import EMBEDDED_NAME, LLMConfig, load_llm
from musclepose.language.questions import parse_question
from musclepose.pipelines.ask import Asker, default_qa_checkpoint
from musclepose.pipelines.coach import default_checkpoint
from musclepose.pipelines.qa_data import clips_sha256, qa_clips, qa_dataset

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"llm-tokens": "(a) LLM + soft tokens", "llm-zeroed": "(b) soft tokens zeroed",
         "llm-table": "(c) table in the prompt", "rule": "(d) rule-based"}  # fmt: skip
LLM_ANSWERERS = ("llm-tokens", "llm-zeroed", "llm-table")


def table(rows: dict[str, dict[str, float]]) -> list[str]:
    out = ["| question kind | n | right | accuracy |", "|---|---:|---:|---:|"]
    total_n = total_right = 0.0
    for kind in sorted(rows):
        r = rows[kind]
        out.append(f"| {kind} | {r['n']:.0f} | {r['right']:.0f} | {r['accuracy']:.2f} |")
        total_n += r["n"]
        total_right += r["right"]
    out.append(f"| **all** | {total_n:.0f} | {total_right:.0f} | {total_right / max(total_n, 1):.2f} |")
    return out


def overall(rows: dict[str, dict[str, float]], field: str) -> float:
    """The item-weighted mean of ``field`` over the kinds (``right``: accuracy)."""
    n = sum(r["n"] for r in rows.values())
    if field == "right":
        return sum(r["right"] for r in rows.values()) / max(n, 1)
    return sum(r[field] * r["n"] for r in rows.values()) / max(n, 1)


def comparison(rows: dict[str, dict[str, dict[str, float]]], single: dict[str, float]) -> list[str]:
    names = [a for a in NAMES if a in rows]
    kinds = sorted({k for a in names for k in rows[a]})
    out = ["| question kind | n | " + " | ".join(NAMES[a] for a in names) + " |",
           "|---|---:|" + "---:|" * len(names)]  # fmt: skip
    for k in kinds:
        n = rows[names[0]][k]["n"]
        out.append(f"| {k} | {n:.0f} | " + " | ".join(f"{rows[a][k]['accuracy']:.2f}" for a in names) + " |")
    n_all = sum(r["n"] for r in rows[names[0]].values())
    out.append(f"| **all** | {n_all:.0f} | " + " | ".join(f"**{overall(rows[a], 'right'):.2f}**" for a in names)
               + " |")  # fmt: skip
    out.append("| prompt tokens (mean) | | " + " | ".join(f"{overall(rows[a], 'prompt_tokens'):.0f}" for a in names)
               + " |")  # fmt: skip
    out.append("| s per answer, batches of 8 | | " + " | ".join(
        f"{overall(rows[a], 'seconds'):.3f}" if a != "rule" else f"{overall(rows[a], 'seconds') * 1000:.2f} ms"
        for a in names) + " |")  # fmt: skip
    out.append("| s per answer, one question alone (median) | | " + " | ".join(
        f"{single[a]:.2f}" if a in single else "-" for a in names) + " |")  # fmt: skip
    return out


def single_latency(asker: Asker, clips, items, answerers, k: int) -> dict[str, float]:
    """Median wall seconds of :meth:`Asker.ask` for ``k`` questions alone, per answerer (warm: each
    answerer answers one question untimed first)."""
    by_index = {c.index: c for c in clips}
    out = {}
    for name in answerers:
        times = []
        for j, item in enumerate(items[: k + 1]):
            clip = by_index[item.clip]
            prev = by_index[item.previous].events if item.previous is not None else None
            t0 = time.perf_counter()
            asker.ask(item.question, clip.events, rep_states=clip.rep_states, previous=prev, answerer=name, check=False,
                      max_new_tokens=32)  # fmt: skip
            if j:
                times.append(time.perf_counter() - t0)
        out[name] = float(np.median(times))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--data", type=Path, default=None, help="An existing simulate .h5 (default: simulate one).")
    ap.add_argument("--work", type=Path, default=Path("/tmp/musclepose_eval_coach_qa"))
    ap.add_argument("--qa", type=Path, default=None, help="QA checkpoint (default: the shipped one).")
    ap.add_argument("--llm", default=EMBEDDED_NAME, help="The base LLM the QA checkpoint was trained on.")
    ap.add_argument("--per-kind", type=int, default=10_000, help="At most this many test questions per kind.")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--latency-n", type=int, default=5, help="Questions timed alone per answerer.")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "evaluation_coach_qa.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    data = args.data or qa_dataset(args.work, args.n, args.seed, workers=2)
    t_sim = time.perf_counter() - t0
    clips = qa_clips(data, default_checkpoint(), workers=2, progress=False)
    t_prep = time.perf_counter() - t0 - t_sim
    test = [c for c in clips if c.split == "test"]
    qa = args.qa or default_qa_checkpoint()
    where = qa.relative_to(ROOT) if qa.is_absolute() and qa.is_relative_to(ROOT) else qa
    have_llm = (qa / "config.json").is_file()
    answerers = ["rule", *LLM_ANSWERERS] if have_llm else ["rule"]
    asker = Asker(load_llm(LLMConfig(name_or_path=args.llm, device="cpu")), qa_folder=qa) if have_llm else Asker()
    card = {}
    if have_llm:
        card = json.loads((qa / "config.json").read_text())["extra"]
    items = select_items(test, per_kind=args.per_kind, seed=args.seed, phrasing="held_out")
    # Batched by the length of the table in the prompt (less padding; the order changes no answer).
    by_index = {c.index: c for c in clips}
    items.sort(key=lambda it: by_index[it.clip].events.n_reps
               + (by_index[it.previous].events.n_reps if it.previous is not None else 0))  # fmt: skip
    t1 = time.perf_counter()
    rep = evaluate_qa(test, asker, answerers, items, max_new_tokens=args.max_new_tokens)
    t_eval = time.perf_counter() - t1
    single = single_latency(asker, test, items, LLM_ANSWERERS, args.latency_n) if have_llm else {}
    parsed = sum(parse_question(it.question).kind == it.kind or (it.kind == "decline" and it.rep is not None)
                 for it in items)  # fmt: skip
    moments = [(float(a["key"]), a["value"]) for a in rep.answers if a["answerer"] == "rule"
               and a["kind"] == "rep_moment" and a["key"] not in (None, "declined")]  # fmt: skip
    err = np.asarray([k - v for k, v in moments]) if moments else np.zeros(0)
    test_items = select_items(test, per_kind=10_000, seed=args.seed, phrasing="held_out")
    rep_test = evaluate_qa(test, asker, ["rule"], test_items)
    all_items = select_items(clips, per_kind=10_000, seed=args.seed, phrasing="held_out")
    rep_all = evaluate_qa(clips, asker, ["rule"], all_items)
    seconds = time.perf_counter() - t0
    acc = {a: overall(rep.rows[a], "right") for a in answerers}
    best = max(answerers, key=lambda a: acc[a])
    doc = {"command": "python benchmarks/eval_coach_qa.py " + " ".join(sys.argv[1:]), "data": str(data),
           "n": args.n, "seed": args.seed, "qa_checkpoint": str(where) if have_llm else None,
           "qa_train_config": card.get("train_config"), "qa_val_metrics": card.get("metrics"),
           "test_clips_sha256": clips_sha256(test),
           "test": {"clips": len(test), "subjects": len({c.subject for c in test}), "items": len(items),
                    "parser_kind_ok": parsed / max(len(items), 1), "rows": rep.rows,
                    "accuracy": acc, "seconds_single_question": single,
                    "rep_moment_error_nm_per_kg": {"n": len(err), "median_abs": float(np.median(np.abs(err)))
                                                   if len(err) else None, "median_signed": float(np.median(err))
                                                   if len(err) else None}},
           "test_rule_all_items": {"items": len(test_items), "rows": rep_test.rows["rule"]},
           "all_rule": {"clips": len(clips), "subjects": len({c.subject for c in clips}), "items": len(all_items),
                        "rows": rep_all.rows["rule"]},
           "best": best, "answers": rep.answers,
           "seconds": {"simulate": round(t_sim, 1), "prepare": round(t_prep, 1), "evaluate": round(t_eval, 1),
                       "total": round(seconds, 1)}}  # fmt: skip
    md = [
        "# Questions about the motion: four answerers on synthetic ground truth (issue 16)",
        "",
        f"`{doc['command'].strip()}`: {len(clips)} simulated clips (all exercises, faults at rate 0.6, fatigue "
        "at rate 0.3), each prepared as the coach sees a recording (estimated ground reactions, analysis, shipped "
        "form screen, event table), every question its generator truth decides, phrased with the held-out "
        "templates. Answers are scored against the generator's truth (repetition windows, inverse dynamics with "
        "true contacts, injected faults and sides), not against the coach's own table. "
        f"Ran in {seconds:.0f} s on 2 shared CPU cores, torch on 1 thread (LLM answers {t_eval:.0f} s).",
        "",
    ]
    if have_llm:
        tc = card.get("train_config") or {}
        md += [
            f"## All four answerers, test split ({len(test)} clips, {doc['test']['subjects']} subjects no model "
            "was trained or tuned on)",
            "",
            f"Accuracy per question kind on the same {len(items)} questions ("
            + (
                f"at most {args.per_kind} per kind; (d) on every test question is in the next section"
                if len(items) < len(test_items)
                else "every test question"
            )
            + "); what the LLM wrote is scored as "
            "written, with no fallback to the rule-based answer.",
            "",
            *comparison(rep.rows, single),
            "",
            f"QA checkpoint: `{where}` (EventBridge + LoRA r {tc.get('lora_r')} on {tc.get('llm')}, "
            f"{tc.get('steps')} steps of {tc.get('batch_size')} pairs, one adapter for both (a) and (c); "
            f"trained by `{tc.get('command')}`). Validation split, after training: "
            + ", ".join(f"{NAMES[a]} {v:.2f}" for a, v in ((card.get("metrics") or {}).get("accuracy") or {}).items())
            + ".",
            "",
        ]
        llm_best = max(LLM_ANSWERERS, key=lambda a: acc[a])
        gap = acc["rule"] - acc[llm_best]
        if best == "rule":
            md += [
                f"**The LLM answerers lose.** The rule-based answerer (d) is right on {acc['rule']:.2f} of the test "
                f"questions; the best LLM answerer, {NAMES[llm_best]}, on {acc[llm_best]:.2f} ({100 * gap:.0f} "
                f"points fewer), at {overall(rep.rows[llm_best], 'prompt_tokens'):.0f} prompt tokens and "
                f"{single.get(llm_best, float('nan')):.1f} s a question against 0 tokens and under a millisecond. "
                f"Soft tokens vs zeroed: (a) {acc['llm-tokens']:.2f}, (b) {acc['llm-zeroed']:.2f} "
                f"({100 * (acc['llm-tokens'] - acc['llm-zeroed']):+.0f} points); soft tokens vs the table in the "
                f"prompt: (a) {acc['llm-tokens']:.2f}, (c) {acc['llm-table']:.2f}. `coach --ask` therefore keeps "
                "the rule-based answerer as its default (`--answerer` selects the others).",
                "",
            ]
        else:
            md += [f"**{NAMES[best]} wins** with {acc[best]:.2f} against (d) {acc['rule']:.2f}.", ""]
    md += [
        f"## (d) rule-based answerer, test split, every question ({len(test)} clips)",
        "",
        *table(rep_test.rows["rule"]),
        "",
        f"## (d) rule-based answerer, all clips ({len(clips)} clips, {doc['all_rule']['subjects']} subjects)",
        "",
        *table(rep_all.rows["rule"]),
        "",
        f"Question parser: {100 * doc['test']['parser_kind_ok']:.0f} % of the held-out test phrasings read as their "
        "kind.",
        "",
    ]
    e = doc["test"]["rep_moment_error_nm_per_kg"]
    if e["n"]:
        md += [
            "Peak moments (test split): the stated value (inverse dynamics with ground reactions estimated from the "
            "motion, as for a recording without force plates) against the generator's inverse dynamics with its "
            f"true contacts: median absolute error {e['median_abs']:.2f} N·m/kg, median signed error "
            f"{e['median_signed']:+.2f} N·m/kg over {e['n']} answers (right within 0.1 N·m/kg or 15 %).",
            "",
        ]
    if not have_llm:
        md += [f"LLM answerers (a), (b), (c): not run: no question-answering checkpoint at {where}.", ""]
    md.append("Every answer (question, accepted keys, what was written, its key, right or not) is in the `.json` "
              "beside this file.")  # fmt: skip
    with atomic_write(args.out, mode="w") as fh:
        fh.write("\n".join(md) + "\n")
    with atomic_write(args.out.with_suffix(".json"), mode="w") as fh:
        fh.write(json.dumps(doc, indent=1, default=str) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
