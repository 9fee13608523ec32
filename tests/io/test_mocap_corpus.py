"""The tokenizer's mocap corpus: its three splits never share a person, and every file is there."""

from __future__ import annotations

from musclepose.io.mocap_corpus import SPLITS, corpus_files


def test_splits_share_no_person_and_no_file(refdata):
    root = refdata("mocap").parent
    people = {split: {p for _, p, _ in corpus_files(root, split)} for split in SPLITS}
    files = {split: {f for _, _, f in corpus_files(root, split)} for split in SPLITS}
    assert not people["test"] & (people["train"] | people["val"])
    assert not files["train"] & files["val"] and not files["test"] & (files["train"] | files["val"])
    assert len(files["train"]) >= 25 and len(files["val"]) == 8 and len(files["test"]) == 5
    assert {s for s, _, _ in corpus_files(root, "test")} == {"addbiomechanics", "uiprmd", "cmu_bvh"}
