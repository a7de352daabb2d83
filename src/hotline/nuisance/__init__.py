"""骚扰号码名单: nuisance callers agents apply to list, supervisors approve, and the routing lookup screens."""
