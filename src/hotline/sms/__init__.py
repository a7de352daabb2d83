"""短信通知: 受理回执 and 办结告知 texted to citizens through an SMS gateway (docs/sms.md)."""
