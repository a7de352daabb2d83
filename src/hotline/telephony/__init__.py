"""hotline.telephony capability."""
