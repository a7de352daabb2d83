"""工单附件: files attached to work orders (photos, 回复函, documents), stored in the database."""
