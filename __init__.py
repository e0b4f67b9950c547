"""Pinzhi (品质): GraphQL API server for an e-commerce platform quality-service system."""
