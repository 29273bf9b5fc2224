"""Portal views, one module per area; each is thin: parse, check via a selector, call a service, render."""
