"""Orders: a parcel inside the service, from posting to delivery."""
