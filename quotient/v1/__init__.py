"""Generated protobuf and gRPC code for the quotient.v1 API. Do not edit."""
