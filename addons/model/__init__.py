"""What is trained into the model: NLU components, the red-flag detector, the triage policy
(referenced by module path from config.yml). A change here retrains.
"""
