"""Beredning and the board: recommendations, meetings, agenda, §§, protocol, justering, papers.

records (finding a meeting, its protocol and agenda) and views (what is shown of a meeting) are
read by the others; meetings (calling one, attendance, kallelse), beredning, agenda,
paragraphs (numbering in the meetings' order), protocol (opening it), decisions, corrections
(a decided §'s wording, a § whose case moved on), justering, anslag, closing (the end of an
insats in a §) and papers each own one part of the work.
"""
