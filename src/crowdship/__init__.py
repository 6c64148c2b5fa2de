"""crowdship: crowdsourced last-mile delivery."""

__version__ = "0.1.0"
