"""`procurebot eval`: answer quality measured, never tuned on.

golden.py         the golden set (tests/eval/golden.toml) over the configured corpus: hit@k,
                  MRR, fact recall, citation precision, refusals, conflicts, with its gate
question_sets.py  a JSONL question set over any folder of documents (another vendor's docs)
"""
