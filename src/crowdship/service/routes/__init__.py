"""The HTTP routes: parse, call one service function, return. The commit happens once, in the
write-session dependency."""
