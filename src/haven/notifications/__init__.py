"""The inbox and its delivery channels: every alert to a person is one Notification (text
encrypted at rest); each verified contact method gets a content-free "sign in to view" nudge."""
