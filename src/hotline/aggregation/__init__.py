"""Data gathered in real time from sub-centres and city centres (数据汇聚)."""
