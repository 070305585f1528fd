"""Every API body and answer, declared once (pydantic): validation, the JSON and the OpenAPI
document are derived from these. Limits and the storable-character rule live in ``limits``."""
