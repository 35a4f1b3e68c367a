"""Thin gRPC servicers: translate the request, call the core or the repository, translate back."""
