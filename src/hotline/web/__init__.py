"""hotline.web capability."""
