"""The test suite, a package: pytest then puts the checkout, not tests/, on sys.path, so
that its folders (kernels, optim, nn …) do not shadow installed packages of those names
(transformers imports Hugging Face's ``kernels``)."""
