"""Reminders and e-mail: due dates, planned reminders, the outbox, the SMTP sender, working days."""
