// ChangeFeedClient
