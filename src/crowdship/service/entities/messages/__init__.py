"""Messages: a thread per order between its courier, sender and receiver, kept with the
order (the operator reads it in a dispute); nobody sees anybody's phone number."""
