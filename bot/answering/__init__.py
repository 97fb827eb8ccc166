"""Stage 2: everything between a question and a cited answer.

engine.py       opens the index, picks the answerer, falls back offline, times answers
contract.py     the Answerer protocol (answer, stream) and Unavailable
retrieval.py    hybrid retrieval (Chroma vectors + BM25) and the question's parts
  keywords.py, lexicon.py, in_memory.py   what retrieval holds in memory
  langchain_retriever.py   the same retrieval as a LangChain BaseRetriever
calibration.py  relevance gates measured for the embedding model and corpus in use
extractive.py   the offline answerer: refuses, picks units (ranking.py), composes (compose.py),
                refuses what the documents never mention (attributes.py)
mistral.py      the Mistral answerer (verify.py checks its quotes)
own_text.py     what procurebot writes itself: framing, not-answered lines, the citations
                registry, estimate / status / conflict sections
layout.py       an answer's structure, read once for the chat, the exports and the sheets
questions.py, followups.py   cleaning questions, reading follow-ups
answers.py      the Answer, Citation and Conflict values
facts/          general mechanisms learnt from the corpus: entities, costs, timeline
                (lifecycle events), claims and conflicts, grounding (the value a question
                needs)
"""
