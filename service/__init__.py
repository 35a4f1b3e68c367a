"""Everything that touches the outside: gRPC servicers, conversion, errors, storage, config, CLI."""
