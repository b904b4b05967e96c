"""Notifications: the transactional outbox, templates, channels (e-mail, SMS, Telegram), dispatcher.

Empty for now: arrives with the notifications issue. It depends on nothing else in crm/."""
