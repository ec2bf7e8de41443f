-- The ratings counted under the new rule stay valid numbers; nothing to undo.
SELECT 1;
