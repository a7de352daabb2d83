"""hotline.workorders capability."""
