"""Open311 GeoReport v2: apps submit and follow citizens' service requests as 12345 work orders."""
