"""Trips: the journeys couriers will make anyway, registered ahead."""
