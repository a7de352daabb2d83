"""Seat planning (座席测算): agents needed on the 12345 queue and on the seats lines keep, on every date of the
merge plan, from a call forecast (Erlang C). Public face: `service.plan_seats`, `service.read_forecast`."""
