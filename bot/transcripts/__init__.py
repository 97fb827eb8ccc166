"""Conversations kept: every question and answer saved as it happens, reviewed, exported.

store.py       the TranscriptStore: SQLite in the data folder or PostgreSQL for several replicas
types.py       the values (conversation, turn, feedback, review, run) and the store's errors
database.py    the connection: URL checks, SQLite pragmas, pooled server connections
migrations.py  the schema, as numbered steps; an older database is upgraded when opened
backlog.py     writes the database refused (locked, disk full), kept in memory in order and
               written once it takes them again
exports.py     Markdown and JSON exports (and the JSON Schema); docx.py the reviewer's Word file
"""
