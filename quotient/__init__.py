"""Generated protobuf and gRPC code for the quotient API. Do not edit."""
