"""Vendor questionnaires: a .csv or .xlsx of questions in, the same rows answered out.

reader.py     the file read into a Questionnaire (which column holds the questions)
answering.py  its rows answered in order, each kept in the journal as it is answered
journal.py    the progress journal beside the output: an interrupted run resumes
writer.py     the answered sheet (.xlsx or .csv, formulas neutralised) and its Markdown report
types.py      what they share: Questionnaire, AnsweredRow, the errors
"""
