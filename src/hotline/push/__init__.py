"""Work-order events delivered to the handling units' own systems through the message queue (工单推送)."""
