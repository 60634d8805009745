"""Funding and follow-up: budget frame, grants, agreements, report plan, reports, payments,
closure and Uppföljning Finsam. Board decisions create budget lines here (board uses funding)."""
