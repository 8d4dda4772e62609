"""From the instructor's sources to what students receive: starter code and the bundle."""
