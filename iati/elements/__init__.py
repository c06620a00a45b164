"""The IATI 2.03 model, one module per element group, each a declarative field table."""
