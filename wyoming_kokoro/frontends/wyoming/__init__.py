"""The Wyoming front end: one handler per connection, over the synthesis service."""
