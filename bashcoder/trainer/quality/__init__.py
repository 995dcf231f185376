"""`bashcoder-eval`: how good a model is, measured on text it never trained on."""
