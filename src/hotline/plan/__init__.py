"""Catalogue of hotlines, regions and units; the integration plan's milestones; plan versus recorded."""
