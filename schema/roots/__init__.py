"""Root fields, one module per graph: thin glue from GraphQL arguments to the services,
building the schema's types from the rows and results they return."""
