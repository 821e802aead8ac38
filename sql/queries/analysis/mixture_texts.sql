-- mixture_texts: the text of every document in one mixture
-- params: mixture_id
SELECT d.text FROM mixture_docs m JOIN documents d USING (doc_id) WHERE m.mixture_id = $mixture_id
