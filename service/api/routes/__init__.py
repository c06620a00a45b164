"""One module per resource; each route turns HTTP into a typed call and back."""
