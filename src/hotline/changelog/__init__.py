"""设置变更记录: who changed the centre's settings (units, 派单目录, 办理时限, 工作日历), when, and from what to what."""
