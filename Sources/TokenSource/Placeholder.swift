// TokenSource
