"""Seat planning (座席测算): agents needed on the 12345 queue and on the seats lines keep, on every date of the
merge plan, from a call forecast (Erlang C), and what callers would get, above all with too few agents: 放弃率 and
15 秒接通率 (Erlang A). Public face: `service.plan_seats`, `service.read_forecast`."""
