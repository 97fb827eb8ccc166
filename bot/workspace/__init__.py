"""The rules the web app calls: who may do what, and what each action changes.

service.py    the Workspace: ask with transcripts, feedback, reviews, exports, documents
access.py     people, roles and password hashes from the users file; logins
uploads.py    documents added and removed in the web app (checked before they are kept)
documents.py  an admin's corrections of a document's title, kind and date; what the
              Documents tab shows of the index
sources.py    a citation shown in its passage, read again from its file
"""
