"""Beredning and the board: recommendations, meetings, agenda, §§, protocol, justering, papers.

records (finding a meeting, its protocol and agenda) and views (what is shown of a meeting) are
read by the others; meetings (calling one, attendance, kallelse), beredning, agenda,
paragraphs (numbering), protocol (opening it), decisions, justering, anslag and papers each
own one part of the work.
"""
