DROP FUNCTION public_name(text);
